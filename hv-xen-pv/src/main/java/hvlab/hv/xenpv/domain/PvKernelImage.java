package hvlab.hv.xenpv.domain;

import hvlab.hw.boot.BootImageException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A PV kernel image: an ELF32 i386 executable whose {@code __xen_guest} section says it is one, as Xen's domain
 * builder reads it ([X32] xen/common/libelf/libelf-dominfo.c; ../shared/reference/xen-pv-abi.md section 8).
 *
 * @param segments the loadable segments at their virtual addresses
 * @param entry the virtual entry point
 * @param virtualBase VIRT_BASE: start of the boot region
 * @param hypercallPage the virtual address Xen fills with hypercall stubs, or -1
 */
public record PvKernelImage(List<Segment> segments, int entry, int virtualBase, int hypercallPage) {
    public record Segment(int virtualAddress, byte[] contents, int memorySize) { }

    public static PvKernelImage parse(String name, byte[] file) throws BootImageException {
        ByteBuffer elf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (file.length < 52 || elf.getInt(0) != 0x464C457F || file[4] != 1 || file[5] != 1 || elf.getShort(18) != 3) {
            throw new BootImageException(name + " is not a 32-bit little-endian i386 ELF file");
        }
        Map<String, String> guest = xenGuestString(name, file, elf);
        if (!guest.getOrDefault("XEN_VER", "").startsWith("xen-3.0")) {
            throw new BootImageException(name + ": its __xen_guest XEN_VER is not xen-3.0 (it says '"
                    + guest.getOrDefault("XEN_VER", "") + "')");
        }
        if (!"no".equals(guest.getOrDefault("PAE", "no"))) {
            throw new BootImageException(name + " is a PAE kernel; this Xen runs non-PAE x86_32 guests");
        }
        int virtualBase = (int) Long.decode(guest.getOrDefault("VIRT_BASE", "0")).longValue();
        int hypercallPage = guest.containsKey("HYPERCALL_PAGE")
                ? virtualBase + (int) Long.decode(guest.get("HYPERCALL_PAGE")).longValue() * 4096 : -1;
        List<Segment> segments = new ArrayList<>();
        int phoff = elf.getInt(28), phentsize = elf.getShort(42) & 0xFFFF, phnum = elf.getShort(44) & 0xFFFF;
        for (int i = 0; i < phnum; i++) {
            int ph = phoff + i * phentsize;
            if (elf.getInt(ph) != 1) {
                continue;
            }
            int offset = elf.getInt(ph + 4), vaddr = elf.getInt(ph + 8), filesz = elf.getInt(ph + 16);
            int memsz = elf.getInt(ph + 20);
            if (offset < 0 || filesz < 0 || (long) offset + filesz > file.length || memsz < filesz) {
                throw new BootImageException(name + ": program header " + i + " reaches past the end of the file");
            }
            byte[] contents = new byte[filesz];
            System.arraycopy(file, offset, contents, 0, filesz);
            segments.add(new Segment(vaddr, contents, memsz));
        }
        if (segments.isEmpty()) {
            throw new BootImageException(name + " has nothing to load");
        }
        int entry = guest.containsKey("VIRT_ENTRY") ? (int) Long.decode(guest.get("VIRT_ENTRY")).longValue()
                : elf.getInt(24);
        return new PvKernelImage(List.copyOf(segments), entry, virtualBase, hypercallPage);
    }

    /** The comma-separated KEY=VALUE string of the {@code __xen_guest} section. */
    private static Map<String, String> xenGuestString(String name, byte[] file, ByteBuffer elf)
            throws BootImageException {
        int shoff = elf.getInt(32), shentsize = elf.getShort(46) & 0xFFFF, shnum = elf.getShort(48) & 0xFFFF;
        int shstrndx = elf.getShort(50) & 0xFFFF;
        if (shoff <= 0 || shstrndx >= shnum || (long) shoff + (long) shnum * shentsize > file.length) {
            throw new BootImageException(name + " has no section headers, so no __xen_guest section: not a PV kernel");
        }
        int names = elf.getInt(shoff + shstrndx * shentsize + 16);
        for (int i = 0; i < shnum; i++) {
            int sh = shoff + i * shentsize;
            if (!"__xen_guest".equals(cString(file, names + elf.getInt(sh)))) {
                continue;
            }
            int offset = elf.getInt(sh + 16), size = elf.getInt(sh + 20);
            if (offset < 0 || size < 0 || (long) offset + size > file.length) {
                throw new BootImageException(name + ": its __xen_guest section reaches past the end of the file");
            }
            Map<String, String> values = new HashMap<>();
            for (String pair : cString(file, offset).split(",")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    values.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
                }
            }
            return values;
        }
        throw new BootImageException(name + " has no __xen_guest section: not a Xen PV kernel");
    }

    private static String cString(byte[] file, int offset) {
        int end = offset;
        while (end < file.length && file[end] != 0) {
            end++;
        }
        return new String(file, offset, end - offset, StandardCharsets.ISO_8859_1);
    }
}
