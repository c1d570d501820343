"""Rally plugins measuring KVM instances against the physical host they run on."""
