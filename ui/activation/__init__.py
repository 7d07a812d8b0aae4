"""The activation page's controls and its lesson-error sentences."""
