"""Boot an Arm64 image under UEFI the way Nova would, before any cloud does.

``settings`` says how (from the model's UEFI metadata), ``configdrive``
writes the config drive Nova would attach, ``qemu`` builds the
qemu-system-aarch64 command line, ``criteria`` reads the serial console
against named pass criteria, ``run`` drives one boot and ``cli`` is the
``image-check`` subcommand.
"""
