"""catkit: the kit's own code for the cat/non-cat logistic-regression nbgrader course."""
