"""`make rehearse`: batches of orders through every layer of the pipeline on
this machine, with the project's own code at every step and local servers
(moto, PostgreSQL, the Lambda Runtime Interface Emulator) for AWS.
See docs/rehearsal.md."""
