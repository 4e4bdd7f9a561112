"""nbgrader plugins of the kit, each one job, composed in the course's nbgrader_config.py."""
