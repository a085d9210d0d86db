"""What the functional tests run against: real ZooKeeper, Nodepool and
Zuul processes, TLS certificates, git repositories, emulated and
virtual Arm64 nodes, region mirrors and the artefacts they leave.

The test modules (``tests/functional/test_*.py``) import these; nothing
here is a test.
"""
