"""``nodepool-aarch64 readiness``: may an Arm64 job vote yet?

The flow shows in the modules: ``source`` (live zuul-web) or
``formats.zuulbuilds`` (saved JSON) give builds; ``pairing`` finds each
Arm64 job's x86 counterpart; ``metrics`` measures the window;
``promotion`` asks the inventory and the capacity simulator what gating
would cost; ``criteria`` judges; ``report`` and ``plot`` show it.
"""
