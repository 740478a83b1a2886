package hvlab.hw.boot;

/**
 * One range of the kernel as it lies in physical memory: fileSize bytes from the image, then zeros up to
 * memorySize. Addresses are unsigned 32-bit values held in longs.
 */
record LoadSegment(long physicalAddress, long fileOffset, long fileSize, long memorySize) {

    long end() {
        return physicalAddress + memorySize;
    }

    boolean contains(long address) {
        return address >= physicalAddress && address < end();
    }

    boolean overlaps(long start, long endExclusive) {
        return physicalAddress < endExclusive && start < end();
    }

    String describe() {
        return "kernel segment at 0x" + Long.toHexString(physicalAddress) + " of " + memorySize + " bytes";
    }
}
