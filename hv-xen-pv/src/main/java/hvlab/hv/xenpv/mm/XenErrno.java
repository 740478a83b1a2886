package hvlab.hv.xenpv.mm;

/** Hypercall results: 0, or minus an errno of Xen's public errno.h (Linux i386 numbering). */
public final class XenErrno {
    public static final int EPERM = -1, ENOENT = -2, ESRCH = -3, ENOMEM = -12, EFAULT = -14, EEXIST = -17,
            EINVAL = -22, ENOSPC = -28, ENOSYS = -38;

    private XenErrno() {
    }
}
