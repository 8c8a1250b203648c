/* The common load generator for the end-to-end benchmarks, in C so that it
 * is never the bottleneck (Linux: epoll).
 *
 *   loadgen PORT CONNECTIONS SIZE DEPTH SECONDS [raw]
 *
 * Opens CONNECTIONS WebSocket connections to 127.0.0.1:PORT, then keeps
 * DEPTH binary messages of SIZE bytes in flight on each: every echo that
 * comes back sends the next one. Client frames are masked (RFC 6455 5.3),
 * built once; echoes are counted by length (server frames are unmasked, so
 * each is a known header plus SIZE bytes). "raw" skips the handshake and
 * framing, for a plain TCP echo server: the ceiling of loopback itself.
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

typedef struct {
    int fd;
    size_t pending;   /* bytes of the current echo received so far */
    size_t to_send;   /* bytes owed to the server */
    size_t sent;      /* total bytes sent, for the offset into the stream */
} conn_t;

static unsigned char *stream;   /* the frame repeated: any slice is valid output */
static size_t frame_len, echo_len, stream_len;
static volatile uint64_t done;

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

static void handshake(int fd, int port) {
    char req[256], buf[4096];
    size_t got = 0;
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", port);
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
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s PORT CONNECTIONS SIZE DEPTH SECONDS [raw]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), nconn = atoi(argv[2]), depth = atoi(argv[4]);
    size_t size = (size_t)atol(argv[3]);
    double seconds = atof(argv[5]);
    int raw = argc > 6 && strcmp(argv[6], "raw") == 0;
    unsigned char header[14];
    size_t hlen = 2, reps;
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};

    header[0] = 0x82;   /* FIN, binary */
    if (size < 126) {
        header[1] = (unsigned char)(0x80 | size);
    } else if (size < 65536) {
        header[1] = 0x80 | 126; header[2] = (unsigned char)(size >> 8); header[3] = (unsigned char)size;
        hlen = 4;
    } else {
        header[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) header[2 + i] = (unsigned char)((uint64_t)size >> (56 - 8 * i));
        hlen = 10;
    }
    memcpy(header + hlen, key, 4);
    frame_len = raw ? size : hlen + 4 + size;
    echo_len = raw ? size : hlen + size;   /* the echo: same header without the key */
    reps = (size_t)(depth > 16 ? depth : 16);
    stream_len = frame_len * reps;
    stream = malloc(stream_len);
    if (!stream) die("malloc");
    for (size_t r = 0; r < reps; r++) {
        unsigned char *f = stream + r * frame_len;
        if (!raw) { memcpy(f, header, hlen + 4); f += hlen + 4; }
        for (size_t i = 0; i < size; i++)
            f[i] = (unsigned char)(((i * 2654435761u) >> 13) ^ (raw ? 0 : key[i & 3]));
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
        if (!raw) handshake(fd, port);
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
                    c->pending += (size_t)r;
                    size_t echoes = c->pending / echo_len;
                    c->pending %= echo_len;
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
           "\"seconds\": %.3f, \"loadgen_cpu\": %.3f}\n",
           count / elapsed, count * (double)size / elapsed, (unsigned long long)count,
           elapsed, cpu / elapsed);
    return 0;
}
