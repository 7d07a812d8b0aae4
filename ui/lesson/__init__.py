"""The guided lesson's step widgets."""
