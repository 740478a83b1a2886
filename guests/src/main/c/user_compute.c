/* compute: a self-checking integer workload in ring 3, in the spirit of CoreMark (list processing, matrix
   arithmetic, a state machine, CRCs over the results). Every iteration starts from the same seed, so each must
   produce ITER_CRC; the running checksum over all iterations is printed. Data lives in the process heap. */
#include "lab.h"
#include "user.h"

#define LIST_N 96
#define MAT_N 12
#define TEXT_N 240

struct node { struct node *next; u16 idx; i16 data; };

static u16 crc8(u8 data, u16 crc) {   /* CRC-16/ARC step, bitwise */
    for (int i = 0; i < 8; i++) {
        u16 x = (data ^ crc) & 1;
        data >>= 1;
        crc >>= 1;
        if (x) crc ^= 0xA001;
    }
    return crc;
}
static u16 crc16(u16 v, u16 crc) { return crc8((u8)(v >> 8), crc8((u8)v, crc)); }
static u16 crc32w(u32 v, u16 crc) { return crc16((u16)(v >> 16), crc16((u16)v, crc)); }

static u32 lcg(u32 *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

/* ---- lists ---- */

static struct node *list_init(struct node *pool, u32 seed) {
    for (int i = 0; i < LIST_N; i++) {
        pool[i].idx = (u16)i;
        pool[i].data = (i16)(lcg(&seed) & 0x3FFF) - 0x2000;
        pool[i].next = i + 1 < LIST_N ? &pool[i + 1] : NULL;
    }
    return pool;
}

static struct node *list_reverse(struct node *l) {
    struct node *r = NULL;
    while (l) { struct node *n = l->next; l->next = r; r = l; l = n; }
    return r;
}

static int by_data(const struct node *a, const struct node *b) {
    return a->data != b->data ? a->data - b->data : a->idx - b->idx;
}
static int by_idx(const struct node *a, const struct node *b) { return a->idx - b->idx; }

/* Bottom-up merge sort of a singly linked list (stable). */
static struct node *list_sort(struct node *l, int (*cmp)(const struct node *, const struct node *)) {
    for (int width = 1;; width *= 2) {
        struct node *p = l, *head = NULL, *tail = NULL;
        int merges = 0;
        while (p) {
            merges++;
            struct node *q = p;
            int psize = 0, qsize = width;
            for (int i = 0; i < width && q; i++) { psize++; q = q->next; }
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0) { e = q; q = q->next; qsize--; }
                else if (qsize == 0 || !q) { e = p; p = p->next; psize--; }
                else if (cmp(p, q) <= 0) { e = p; p = p->next; psize--; }
                else { e = q; q = q->next; qsize--; }
                if (tail) tail->next = e; else head = e;
                tail = e;
            }
            p = q;
        }
        tail->next = NULL;
        l = head;
        if (merges <= 1) return l;
    }
}

static u16 bench_list(struct node *pool, u32 seed) {
    struct node *l = list_init(pool, seed);
    u16 crc = 0;
    l = list_reverse(l);
    for (int k = 0; k < 8; k++) {            /* find by index, count the distance */
        int dist = 0;
        struct node *n = l;
        while (n && n->idx != (u16)(k * 11)) { n = n->next; dist++; }
        crc = crc16((u16)dist, crc);
        if (n) crc = crc16((u16)n->data, crc);
    }
    l = list_sort(l, by_data);
    for (struct node *n = l; n; n = n->next) crc = crc16((u16)(n->data ^ n->idx), crc);
    l = list_sort(l, by_idx);
    int pos = 0;
    for (struct node *n = l; n; n = n->next, pos++)
        if (n->idx != pos) crc = crc16(0xBAD, crc);
    return crc;
}

/* ---- matrices ---- */

static u16 bench_matrix(i16 *a, i16 *b, i32 *c, u32 seed) {
    for (int i = 0; i < MAT_N * MAT_N; i++) {
        a[i] = (i16)(lcg(&seed) & 0xFFF) - 0x800;
        b[i] = (i16)(lcg(&seed) & 0xFFF) - 0x800;
    }
    u16 crc = 0;
    for (int i = 0; i < MAT_N; i++)            /* C = A * B */
        for (int j = 0; j < MAT_N; j++) {
            i32 s = 0;
            for (int k = 0; k < MAT_N; k++) s += (i32)a[i * MAT_N + k] * b[k * MAT_N + j];
            c[i * MAT_N + j] = s;
        }
    for (int i = 0; i < MAT_N * MAT_N; i++) crc = crc32w((u32)c[i], crc);
    for (int i = 0; i < MAT_N * MAT_N; i++) c[i] = (c[i] >> 3) * 7 + a[i];   /* scale and add */
    i32 tr = 0, mx = -0x7FFFFFFF;
    for (int i = 0; i < MAT_N; i++) tr += c[i * MAT_N + i];
    for (int i = 0; i < MAT_N * MAT_N; i++) if (c[i] > mx) mx = c[i];
    crc = crc32w((u32)tr, crc);
    crc = crc32w((u32)mx, crc);
    for (int i = 0; i < MAT_N * MAT_N; i++) crc = crc16((u16)(c[i] % 1000), crc);
    return crc;
}

/* ---- state machine: classify comma-separated tokens as int, float, scientific, hex or invalid ---- */

enum { S_START, S_INT, S_FLOAT, S_EXP, S_SCI, S_HEX0, S_HEX, S_SIGN, S_INVALID, S_COUNT };

static int next_state(int s, char ch) {
    int digit = ch >= '0' && ch <= '9';
    switch (s) {
    case S_START: return digit ? (ch == '0' ? S_HEX0 : S_INT) : (ch == '+' || ch == '-') ? S_SIGN : ch == '.' ? S_FLOAT : S_INVALID;
    case S_SIGN: return digit ? S_INT : ch == '.' ? S_FLOAT : S_INVALID;
    case S_HEX0: return ch == 'x' ? S_HEX : digit ? S_INT : ch == '.' ? S_FLOAT : S_INVALID;
    case S_HEX: return digit || (ch >= 'a' && ch <= 'f') ? S_HEX : S_INVALID;
    case S_INT: return digit ? S_INT : ch == '.' ? S_FLOAT : (ch == 'e' || ch == 'E') ? S_EXP : S_INVALID;
    case S_FLOAT: return digit ? S_FLOAT : (ch == 'e' || ch == 'E') ? S_EXP : S_INVALID;
    case S_EXP: return digit || ch == '-' || ch == '+' ? S_SCI : S_INVALID;
    case S_SCI: return digit ? S_SCI : S_INVALID;
    default: return S_INVALID;
    }
}

static u16 bench_state(char *text, u32 seed) {
    static const char alphabet[] = "0123456789012345678901234567890123456789.e-+x,,,,,abcdE";
    for (int i = 0; i < TEXT_N - 1; i++) text[i] = alphabet[lcg(&seed) % (sizeof alphabet - 1)];
    text[TEXT_N - 1] = 0;
    u32 final[S_COUNT] = {0}, transitions[S_COUNT] = {0};
    int s = S_START;
    for (int i = 0; text[i]; i++) {
        if (text[i] == ',') { final[s]++; s = S_START; continue; }
        int n = next_state(s, text[i]);
        if (n != s) transitions[n]++;
        s = n;
    }
    final[s]++;
    u16 crc = 0;
    for (int i = 0; i < S_COUNT; i++) crc = crc16((u16)final[i], crc16((u16)transitions[i], crc));
    for (int i = 0; text[i]; i++) text[i] ^= 0x20;   /* touch the input again, as CoreMark does */
    for (int i = 0; text[i]; i++) crc = crc8((u8)text[i], crc);
    return crc;
}

static u16 one_iteration(u8 *heap) {
    struct node *pool = (struct node *)heap;
    i16 *a = (i16 *)(heap + 4096), *b = a + MAT_N * MAT_N;
    i32 *c = (i32 *)(heap + 8192);
    char *text = (char *)(heap + 12288);
    u16 crc = 0;
    crc = crc16(bench_list(pool, 0x1234), crc);
    crc = crc16(bench_matrix(a, b, c, 0x5678), crc);
    crc = crc16(bench_state(text, 0x9ABC), crc);
    return crc;
}

void user_compute(u32 iterations) {
    u8 *heap = (u8 *)USER_BASE;
    u32 bad = 0;
    u16 first = 0, checksum = 0xFFFF;
    u64 t0 = rdtsc();
    for (u32 i = 0; i < iterations; i++) {
        u16 crc = one_iteration(heap);
        if (i == 0) first = crc;
        if (crc != first) bad++;
        checksum = crc16((u16)i, crc16(crc, checksum));
    }
    u64 t1 = rdtsc() - t0;
    usys(SYS_REPORT, (u32)t1, (u32)(t1 >> 32), ((u32)first << 16) | checksum);
    usys(SYS_EXIT, bad, 0, 0);
}
