"""Disk-image helpers shared by the image verification tests."""

import shutil
import subprocess
import time


def copy_while_held(disk, offset, mnt, dest, write):
    """Copy ``disk`` the way the field failure did: its filesystem (at
    ``offset``) mounted on ``mnt``, ``write(mnt)`` done, then unmounted
    here while another mount namespace (like a process started by
    `ip netns exec` meanwhile) still holds it, so the last writes are only
    in the journal of the copy."""
    loop = subprocess.run(["losetup", "-f", "--show", "-o", str(offset),
                           str(disk)], check=True, capture_output=True,
                          text=True).stdout.strip()
    holder = None
    try:
        subprocess.run(["mount", loop, str(mnt)], check=True)
        write(mnt)
        holder = subprocess.Popen(["unshare", "--mount", "--propagation",
                                   "private", "sleep", "120"])
        time.sleep(0.5)
        subprocess.run(["umount", str(mnt)], check=True)
        shutil.copyfile(disk, dest)
    finally:
        if holder:
            holder.kill()
            holder.wait()
        subprocess.run(["umount", str(mnt)], capture_output=True)
        subprocess.run(["losetup", "-d", loop], capture_output=True)
    return dest
