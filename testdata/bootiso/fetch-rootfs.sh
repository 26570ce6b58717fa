# Inserted into /init of the minimal-ISO variant (testdata/bootiso/minibuild.py) before the report's checksum:
# when the kernel was given coreos.live.rootfs_url=URL (a minimal ISO), bring up the e1000 NIC on qemu's user
# network (the guest is 10.0.2.15, the host's 127.0.0.1 is 10.0.2.2), fetch URL with busybox wget and record
#   fetched URL_B64 SHA256 SIZE     the file was fetched
#   fetch-failed URL_B64 STATUS     wget failed (last exit status after a few tries)
URL=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^coreos\.live\.rootfs_url=//p' | head -n 1)
if [ -n "$URL" ]; then
    U64=$(printf %s "$URL" | base64 -w 0)
    insmod /lib/modules/e1000.ko 2>/dev/null
    ip link set lo up
    ip link set eth0 up
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
    RC=1
    for try in 1 2 3 4 5; do
        if wget -q -O /tmp/rootfs.img "$URL"; then
            RC=0
            break
        else
            RC=$?
        fi
        sleep 1
    done
    if [ "$RC" = 0 ]; then
        rec "fetched $U64 $(sha256sum /tmp/rootfs.img | cut -d ' ' -f 1) $(wc -c < /tmp/rootfs.img | tr -d ' ')"
    else
        rec "fetch-failed $U64 $RC"
    fi
fi
