#!/bin/bash
# Register qemu-aarch64 in binfmt_misc so that an arm64 root runs on this
# x86 machine, with the flags an emulated node needs:
#   P  keep argv[0] as the program ran it,
#   O  hand qemu an open file descriptor (binaries it could not open),
#   C  take credentials from the binary, not from qemu, so setuid sudo
#      works inside the root (Debian registers only "PF"; sudo then says
#      "effective uid is not 0"),
#   F  open the interpreter now, so it works inside chroots and bwrap.
# Safe to run again; needs root.
set -eu

entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
interpreter=/usr/bin/qemu-aarch64-static

[ -x "$interpreter" ] || { echo "$interpreter missing: apt-get install qemu-user-static" >&2; exit 1; }
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ -e "$entry" ] && grep -q '^flags: POCF$' "$entry" \
        && grep -q "^interpreter $interpreter\$" "$entry"; then
    exit 0
fi
[ -e "$entry" ] && echo -1 > "$entry"
magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
printf ':qemu-aarch64:M::%s:%s:%s:POCF\n' "$magic" "$mask" "$interpreter" \
    > /proc/sys/fs/binfmt_misc/register
grep -q '^flags: POCF$' "$entry"
