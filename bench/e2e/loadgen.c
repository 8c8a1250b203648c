/* The common load generator for the end-to-end benchmarks, in C so that it
 * is never the bottleneck (Linux: epoll).
 *
 *   loadgen PORT CONNECTIONS SIZE DEPTH SECONDS [raw] [text] [deflate]
 *
 * Opens CONNECTIONS WebSocket connections to 127.0.0.1:PORT, then keeps
 * DEPTH binary messages of SIZE bytes in flight on each: every echo that
 * comes back sends the next one. Client frames are masked (RFC 6455 5.3),
 * built once; echoes are counted as the final frames of data messages in
 * the server's stream. "text" sends text messages (ASCII words) instead;
 * "deflate" offers permessage-deflate with client_no_context_takeover and
 * sends each message compressed on its own (RFC 7692 7.1.1.1: the same bytes
 * every time), the same words; the server's compressed replies are counted,
 * not inflated. "raw" skips the handshake and framing, for a plain TCP echo
 * server: the ceiling of loopback itself.
 * Prints one JSON line: messages/s, bytes/s, and this process's CPU use.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

typedef struct {
    int fd;
    size_t pending;   /* bytes of the current echo received so far */
    size_t to_send;   /* bytes owed to the server */
    size_t sent;      /* total bytes sent, for the offset into the stream */
    unsigned char head[14];   /* the header of the server's frame being read */
    size_t head_have, head_need;
    uint64_t payload_left;    /* of the server's frame being read */
    int in_payload;
} conn_t;

static unsigned char *stream;   /* the frame repeated: any slice is valid output */
static size_t frame_len, echo_len, stream_len;
static volatile uint64_t done;
static uint64_t compressed;   /* echoes whose first frame had RSV1 set */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what) { perror(what); exit(1); }

static int flush(conn_t *c) {
    while (c->to_send) {
        size_t off = c->sent % frame_len;
        size_t n = c->to_send < stream_len - off ? c->to_send : stream_len - off;
        ssize_t w = write(c->fd, stream + off, n);
        if (w < 0) {
            if (errno == EAGAIN) return 1;
            die("write");
        }
        c->sent += (size_t)w;
        c->to_send -= (size_t)w;
    }
    return 0;
}

static void handshake(int fd, int port, int deflate) {
    char req[384], buf[4096];
    size_t got = 0;
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "%sSec-WebSocket-Version: 13\r\n\r\n", port,
                     deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                               "client_no_context_takeover\r\n" : "");
    if (write(fd, req, (size_t)n) != n) die("write handshake");
    while (got < sizeof buf - 1) {   /* byte by byte: nothing after the headers is consumed */
        ssize_t r = read(fd, buf + got, 1);
        if (r <= 0) die("read handshake");
        got++;
        if (got >= 4 && memcmp(buf + got - 4, "\r\n\r\n", 4) == 0) break;
    }
    buf[got] = 0;
    if (strncmp(buf, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "handshake refused: %.60s\n", buf);
        exit(1);
    }
    if (deflate && !strcasestr(buf, "permessage-deflate")) {
        fprintf(stderr, "the server did not accept permessage-deflate\n");
        exit(1);
    }
}

/* Reads the server's frames from buf; returns how many messages ended.
 * Server frames are unmasked, but the mask bit is honoured anyway. */
static uint64_t count_echoes(conn_t *c, const unsigned char *buf, size_t len) {
    uint64_t echoes = 0;
    size_t i = 0;
    while (i < len) {
        if (c->in_payload) {
            size_t take = c->payload_left < len - i ? (size_t)c->payload_left : len - i;
            i += take;
            c->payload_left -= take;
        } else {
            c->head[c->head_have++] = buf[i++];
            if (c->head_have == 2) {
                unsigned len7 = c->head[1] & 0x7f;
                c->head_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (c->head[1] & 0x80 ? 4 : 0);
            }
            if (c->head_have < 2 || c->head_have < c->head_need) continue;
            unsigned len7 = c->head[1] & 0x7f;
            uint64_t n = len7;
            if (len7 == 126) n = (uint64_t)c->head[2] << 8 | c->head[3];
            if (len7 == 127) { n = 0; for (int k = 0; k < 8; k++) n = n << 8 | c->head[2 + k]; }
            c->payload_left = n;
            c->in_payload = 1;
            c->head_have = 0;
            if ((c->head[0] & 0x0f) == 8) {
                fprintf(stderr, "the server sent a Close frame\n");
                exit(1);
            }
        }
        if (c->in_payload && c->payload_left == 0) {
            c->in_payload = 0;
            /* the final frame of a data message (not a control frame) */
            if ((c->head[0] & 0x80) && (c->head[0] & 0x0f) < 8) {
                echoes++;
                compressed += (c->head[0] & 0x40) != 0;   /* single-frame echoes */
            }
        }
    }
    return echoes;
}

/* size bytes of ASCII words: text that compresses as prose does. */
static void fill_words(unsigned char *out, size_t size) {
    static const char *words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy",
                                  "dog", "score", "room", "message", "update", "price", "42"};
    uint32_t x = 2463534242u;
    size_t i = 0;
    while (i < size) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        const char *w = words[x % (sizeof words / sizeof *words)];
        for (size_t k = 0; w[k] && i < size; k++) out[i++] = (unsigned char)w[k];
        if (i < size) out[i++] = ' ';
    }
}

/* Raw DEFLATE of one message, without the 00 00 ff ff tail (RFC 7692 7.2.1). */
static unsigned char *deflate_message(const unsigned char *in, size_t size, size_t *out_len) {
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2");
    size_t cap = deflateBound(&z, size) + 16;
    unsigned char *out = malloc(cap);
    if (!out) die("malloc");
    z.next_in = (unsigned char *)in; z.avail_in = (uInt)size;
    z.next_out = out; z.avail_out = (uInt)cap;
    if (deflate(&z, Z_SYNC_FLUSH) != Z_OK || z.avail_in) die("deflate");
    *out_len = cap - z.avail_out - 4;
    deflateEnd(&z);
    return out;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s PORT CONNECTIONS SIZE DEPTH SECONDS [raw] [text] [deflate]\n",
                argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), nconn = atoi(argv[2]), depth = atoi(argv[4]);
    size_t size = (size_t)atol(argv[3]);
    double seconds = atof(argv[5]);
    int raw = 0, text = 0, deflate = 0;
    for (int a = 6; a < argc; a++) {
        if (strcmp(argv[a], "raw") == 0) raw = 1;
        else if (strcmp(argv[a], "text") == 0) text = 1;
        else if (strcmp(argv[a], "deflate") == 0) deflate = 1;
        else { fprintf(stderr, "unknown option %s\n", argv[a]); return 2; }
    }
    unsigned char header[14];
    size_t hlen = 2, reps;
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};

    /* The message: pseudo-random bytes, or words for text and compression. */
    unsigned char *message = malloc(size ? size : 1);
    if (!message) die("malloc");
    if (text || deflate) {
        fill_words(message, size);
    } else {
        for (size_t i = 0; i < size; i++) message[i] = (unsigned char)((i * 2654435761u) >> 13);
    }
    size_t wire = size;   /* payload bytes on the wire */
    if (deflate && !raw) {
        unsigned char *packed = deflate_message(message, size, &wire);
        free(message);
        message = packed;
    }
    header[0] = (unsigned char)(0x80 | (deflate ? 0x40 : 0) | (text ? 0x1 : 0x2));
    if (wire < 126) {
        header[1] = (unsigned char)(0x80 | wire);
    } else if (wire < 65536) {
        header[1] = 0x80 | 126; header[2] = (unsigned char)(wire >> 8); header[3] = (unsigned char)wire;
        hlen = 4;
    } else {
        header[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) header[2 + i] = (unsigned char)((uint64_t)wire >> (56 - 8 * i));
        hlen = 10;
    }
    memcpy(header + hlen, key, 4);
    frame_len = raw ? size : hlen + 4 + wire;
    echo_len = size;   /* raw: the echo is the bytes sent */
    reps = (size_t)(depth > 16 ? depth : 16);
    stream_len = frame_len * reps;
    stream = malloc(stream_len);
    if (!stream) die("malloc");
    for (size_t r = 0; r < reps; r++) {
        unsigned char *f = stream + r * frame_len;
        if (!raw) { memcpy(f, header, hlen + 4); f += hlen + 4; }
        for (size_t i = 0; i < (raw ? size : wire); i++)
            f[i] = (unsigned char)(message[i] ^ (raw ? 0 : key[i & 3]));
    }

    struct rlimit rl = {65536, 65536};
    setrlimit(RLIMIT_NOFILE, &rl);
    conn_t *conns = calloc((size_t)nconn, sizeof *conns);
    int ep = epoll_create1(0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!raw) handshake(fd, port, deflate);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    for (int i = 0; i < nconn; i++) {
        conns[i].to_send = frame_len * (size_t)depth;
        if (flush(&conns[i])) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &conns[i]};
            epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
        }
    }

    static unsigned char buf[1 << 18];
    double start = now(), warm = start + (seconds / 4 < 1 ? seconds / 4 : 1), end = warm + seconds;
    double t0 = 0, cpu0 = 0;
    uint64_t count0 = 0;
    struct epoll_event events[256];
    for (;;) {
        double t = now();
        if (t0 == 0 && t >= warm) { t0 = t; cpu0 = cpu_now(); count0 = done; }
        if (t >= end) break;
        int n = epoll_wait(ep, events, 256, 100);
        for (int e = 0; e < n; e++) {
            conn_t *c = events[e].data.ptr;
            if (events[e].events & EPOLLIN) {
                for (;;) {
                    ssize_t r = read(c->fd, buf, sizeof buf);
                    if (r < 0) { if (errno == EAGAIN) break; die("read"); }
                    if (r == 0) { fprintf(stderr, "server closed a connection\n"); return 1; }
                    uint64_t echoes;
                    if (raw) {
                        c->pending += (size_t)r;
                        echoes = c->pending / echo_len;
                        c->pending %= echo_len;
                    } else {
                        echoes = count_echoes(c, buf, (size_t)r);
                    }
                    done += echoes;
                    c->to_send += echoes * frame_len;
                    if ((size_t)r < sizeof buf) break;
                }
            }
            int blocked = flush(c);
            struct epoll_event ev = {.events = EPOLLIN | (blocked ? EPOLLOUT : 0), .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    double elapsed = now() - t0, cpu = cpu_now() - cpu0;
    uint64_t count = done - count0;
    printf("{\"messages_per_s\": %.1f, \"bytes_per_s\": %.1f, \"messages\": %llu, "
           "\"seconds\": %.3f, \"loadgen_cpu\": %.3f, \"echoes\": %llu, "
           "\"compressed_echoes\": %llu}\n",
           count / elapsed, count * (double)size / elapsed, (unsigned long long)count,
           elapsed, cpu / elapsed, (unsigned long long)done, (unsigned long long)compressed);
    return 0;
}
