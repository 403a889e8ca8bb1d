"""X-Ray traces of the lab's function: fetch (scoped, batched), model (one tree per
trace), analysis (root cause, percentiles) and the service the CLI and demo call."""
