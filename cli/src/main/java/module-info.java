/** The hvlab command: boots guests on the PC model and lists what it has. */
module hvlab.cli {
    requires hvlab.hw;
    requires hvlab.guests;
    requires info.picocli;
    requires org.slf4j;

    opens hvlab.cli to info.picocli;

    uses hvlab.spi.HypervisorProvider;
}
