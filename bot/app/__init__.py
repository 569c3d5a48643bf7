"""The application: wiring (bootstrap), the process that runs the platforms and the scheduler
(runtime), the command line, and operations (doctor, backup, metrics)."""
