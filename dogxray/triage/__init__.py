"""The triage lab: inject faults, put the function under load, name the cause."""
