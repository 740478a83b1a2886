/** The lab guest kernel and its workloads: a multiboot ELF and one 64 KiB ROM per workload, as resources. */
module hvlab.guests {
    exports hvlab.guests;
    exports hvlab.guests.peers;
}
