package hvlab.it.tck;

/**
 * The suite over every provider in the reactor, as CI runs it: each plugin module on this module's test path is
 * verified on every lab guest; with none (as long as no plugin module exists) it prints a line saying so.
 */
class TckOverReactorProvidersTest extends InstalledHypervisorsConformanceSuite {
}
