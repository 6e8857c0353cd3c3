"""The fuzz suite (issue 10): hypothesis properties over every input surface.

Each property feeds generated input to one surface and asserts that the result is a
valid answer or a typed :class:`~dockercreds.errors.DockerCredsError`, never another
exception; the programs exit 0, 1 or 2 with one line on stderr (see
:mod:`tests.fuzz.common` for the exact contract) and never print a traceback or a
distinctive secret. Example counts are small by default (about a minute in CI);
``DOCKERCREDS_FUZZ_EXAMPLES=N`` raises them for a long local run.
"""
