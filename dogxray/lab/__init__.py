"""The control plane: desired state (models), describe-only observation (observe), a pure
diff into steps (planner), a runner with waits and retries (executor), and the entry
points the commands and the demo call (service)."""
