"""The deployment zip: building it (pip or offline), its cache."""
