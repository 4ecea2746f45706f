//! A lab of real libvirt/KVM hosts on one machine.
