"""`dogxray demo`: the lab (and the triage lab) run stage by stage, each verified."""
