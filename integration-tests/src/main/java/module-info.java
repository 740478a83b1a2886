/** Cross-module tests: lab guests on hvlab compared with QEMU; later the hypervisor conformance suite. */
module hvlab.it {
    requires hvlab.hw;
    requires hvlab.guests;
    requires jdk.jfr;
}
