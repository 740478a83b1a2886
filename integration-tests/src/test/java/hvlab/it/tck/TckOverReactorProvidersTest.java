package hvlab.it.tck;

/**
 * The suite over every provider in the reactor, as CI runs it: each plugin module on this module's test path is
 * verified on every lab guest (rules its capabilities exclude are skipped, naming them); with none it prints a line
 * saying so.
 */
class TckOverReactorProvidersTest extends InstalledHypervisorsConformanceSuite {
}
