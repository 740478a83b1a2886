/**
 * The hypervisor SPI: what a strategy plugin implements ({@link hvlab.spi.HypervisorProvider},
 * {@link hvlab.spi.Hypervisor}) and what the framework hands it ({@link hvlab.spi.HostContext}). A plugin drives the
 * modelled hardware only through the interfaces real ring-0 or VMX-root software has; it never bends a hardware rule.
 * Plugins are found with {@link java.util.ServiceLoader}; the SPI evolves by default methods and its version is
 * checked at load time ({@link hvlab.spi.HypervisorProvider#SPI_VERSION}).
 */
package hvlab.spi;
