package hvlab.hw.boot;

import hvlab.hw.cpu.Cpu;
import hvlab.hw.cpu.CpuState;
import hvlab.hw.machine.Machine;
import hvlab.hw.machine.RunOutcome;
import hvlab.spi.GuestImage;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** A synthetic bzImage booted on the machine: the CPU enters it as boot.rst's 32-bit Boot Protocol says. */
class LinuxBootMachineTest {
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final Machine machine = Machine.builder().ramBytes(32 << 20).serialOutput(console::write).build();

    /**
     * 32-bit code at 0x100000: reloads DS and ES with __BOOT_DS and CS with __BOOT_CS from the loader's GDT, prints
     * the command line that boot_params.cmd_line_ptr (ESI + 0x228) points to on COM1, then writes 0x21 to the
     * debug-exit port.
     */
    private static byte[] printCommandLineKernel() {
        byte[] head = HexFormat.of().parseHex("66b81800" + "8ed8" + "8ec0"); // mov ax,0x18; mov ds,ax; mov es,ax
        ByteBuffer farJump = ByteBuffer.allocate(7).order(ByteOrder.LITTLE_ENDIAN) // jmp far 0x10:0x10000f
                .put((byte) 0xEA).putInt(0x10_000F).putShort((short) 0x10);
        byte[] tail = HexFormat.of().parseHex(""
                + "baf8030000"      // mov edx, 0x3f8
                + "8b9e28020000"    // mov ebx, [esi + 0x228]
                + "8a03" + "84c0"   // next: mov al, [ebx]; test al, al
                + "7404"            // jz done
                + "ee" + "43"       // out dx, al; inc ebx
                + "ebf6"            // jmp next
                + "b021" + "e6f4"   // done: mov al, 0x21; out 0xf4, al
                + "f4" + "ebfd");   // hlt; jmp back to hlt
        return ByteBuffer.allocate(0x400).put(head).put(farJump.array()).put(tail).array();
    }

    @Test
    @DisplayName("boot.rst, 32-bit Boot Protocol: the kernel reloads __BOOT_CS/__BOOT_DS from the GDT and finds its command line through ESI")
    void syntheticKernelRunsAndReadsItsCommandLine() throws Exception {
        byte[] image = new BzImageBuilder().protectedMode(printCommandLineKernel()).build();
        machine.boot(new GuestImage.LinuxKernel("bzImage", image, null, "console=ttyS0 hello"));

        RunOutcome outcome = machine.run(10_000);

        assertThat(outcome).isEqualTo(new RunOutcome.Exited(0x21));
        assertThat(console.toString(StandardCharsets.US_ASCII)).isEqualTo("console=ttyS0 hello");
    }

    @Test
    @DisplayName("boot.rst, 32-bit Boot Protocol: CPU state at entry: protected mode, paging and interrupts off, ESI = boot_params, flat segments")
    void cpuStateAtEntry() throws Exception {
        machine.boot(new GuestImage.LinuxKernel("bzImage", new BzImageBuilder().build(), new byte[] {1, 2, 3}, ""));

        CpuState state = machine.cpu().captureState();
        assertThat(state.general().eip()).isEqualTo(0x10_0000);
        assertThat(state.general().esi()).isEqualTo(LinuxLoader.ZERO_PAGE);
        assertThat(new int[] {state.general().ebp(), state.general().edi(), state.general().ebx()}).containsOnly(0);
        assertThat(state.general().eflags() & Cpu.IF).isZero();
        assertThat(state.system().cr0() & (Cpu.CR0_PE | Cpu.CR0_PG)).isEqualTo(Cpu.CR0_PE);
        assertThat(state.system().cpl()).isZero();
        assertThat(state.system().gdt()).isEqualTo(new CpuState.TableRegister(LinuxLoader.GDT, 31));
        // hidden caches: base 0, limit 4 GiB - 1, G, D/B, P, S; CS execute/read, the others read/write (accessed)
        assertThat(state.segments().get(Cpu.CS)).isEqualTo(new CpuState.SegmentRegister(0x10, 0, 0xFFFF_FFFF, 0xC09B));
        for (int s : new int[] {Cpu.DS, Cpu.ES, Cpu.SS, Cpu.FS, Cpu.GS}) {
            assertThat(state.segments().get(s)).isEqualTo(new CpuState.SegmentRegister(0x18, 0, 0xFFFF_FFFF, 0xC093));
        }
        assertThat(machine.platform().memory().a20Enabled()).isTrue();
    }
}
