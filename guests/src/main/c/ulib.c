/* Library routines shared by both rings. lab.ld places this file in the user-accessible pages. */
#include "lab.h"

void *memcpy(void *d, const void *s, size_t n) {
    void *r = d;
    if ((((u32)d | (u32)s | n) & 3) == 0) {
        n >>= 2;
        __asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    } else {
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    }
    return r;
}

void *memset(void *d, int c, size_t n) {
    void *r = d;
    if ((((u32)d | n) & 3) == 0) {
        u32 v = (u8)c * 0x01010101u;
        n >>= 2;
        __asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(v) : "memory");
    } else {
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    }
    return r;
}

int memcmp(const void *a, const void *b, size_t n) {
    const u8 *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return (u8)*a - (u8)*b;
}

/* 64-by-32 division in two DIV steps, so neither step can overflow and no libgcc is needed. */
u64 udiv64(u64 n, u32 d, u32 *rem) {
    u32 hi = (u32)(n >> 32), lo = (u32)n, qhi, qlo, r;
    __asm__("divl %4" : "=a"(qhi), "=d"(r) : "a"(hi), "d"(0), "rm"(d));
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem) *rem = r;
    return ((u64)qhi << 32) | qlo;
}

struct out { char *buf; int size, len; };

static void put(struct out *o, char c) {
    if (o->len < o->size - 1) o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, u64 v, u32 base, int width, char pad, int neg) {
    char tmp[24];
    int n = 0;
    do {
        u32 r;
        v = udiv64(v, base, &r);
        tmp[n++] = "0123456789abcdef"[r];
    } while (v);
    if (neg) tmp[n++] = '-';
    while (n < width) tmp[n++] = pad;
    while (n) put(o, tmp[--n]);
}

/* A small vsnprintf: %s %c %d %u %x, optional '0' and width, 'l'/'ll' for 64-bit. */
int fmt(char *buf, int size, const char *f, __builtin_va_list ap) {
    struct out o = { buf, size, 0 };
    for (; *f; f++) {
        if (*f != '%') { put(&o, *f); continue; }
        f++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*f == '0') { pad = '0'; f++; }
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        while (*f == 'l') { longs++; f++; }
        switch (*f) {
        case 's': { const char *s = __builtin_va_arg(ap, const char *); while (*s) put(&o, *s++); break; }
        case 'c': put(&o, (char)__builtin_va_arg(ap, int)); break;
        case 'd': {
            i64 v = longs >= 2 ? __builtin_va_arg(ap, i64) : __builtin_va_arg(ap, i32);
            put_num(&o, v < 0 ? (u64)-v : (u64)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            u64 v = longs >= 2 ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, u32);
            put_num(&o, v, *f == 'u' ? 10 : 16, width, pad, 0);
            break;
        }
        case '%': put(&o, '%'); break;
        default: put(&o, '?'); break;
        }
    }
    if (o.size > 0) o.buf[o.len < o.size ? o.len : o.size - 1] = 0;
    return o.len;
}

int snfmt(char *buf, int size, const char *f, ...) {
    __builtin_va_list ap;
    __builtin_va_start(ap, f);
    int n = fmt(buf, size, f, ap);
    __builtin_va_end(ap);
    return n;
}
