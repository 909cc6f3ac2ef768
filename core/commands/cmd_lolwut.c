/* cmd_lolwut.c — LOLWUT [VERSION version [arg ...]] as Redis 7.0: without a
 * VERSION (or one that is neither 5 nor 6) the version line alone; VERSION 5
 * draws Georg Nees's "Schotter" (squares that rotate and shift more and more
 * down the page) in Braille characters, VERSION 6 a city skyline in ANSI
 * colours; both random, both sized by their optional integer arguments and
 * clamped as Redis clamps them. The reply is a verbatim "txt" string. Like
 * Redis's own, the command reads its words by position (keel_raw_arguments):
 * they are not an option grammar (extra words are ignored). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "util.h"

#define LOLWUT_VERSION "7.0.15" /* the Redis version Keel reports (INFO) */
#define LOLWUT_MAX_PIXELS (64.0 * 1024 * 1024)

struct canvas {
    int width, height;
    unsigned char *pixels;
};

static struct canvas *canvas_new(int width, int height, int bg)
{
    struct canvas *c = xmalloc(sizeof(*c));
    c->width = width;
    c->height = height;
    c->pixels = xmalloc((size_t)width * (size_t)height + 1);
    memset(c->pixels, bg, (size_t)width * (size_t)height);
    return c;
}

static void canvas_free(struct canvas *c)
{
    free(c->pixels);
    free(c);
}

static void set_pixel(struct canvas *c, int x, int y, int color)
{
    if (x < 0 || x >= c->width || y < 0 || y >= c->height) return;
    c->pixels[x + y * c->width] = (unsigned char)color;
}

static int get_pixel(const struct canvas *c, int x, int y)
{
    if (x < 0 || x >= c->width || y < 0 || y >= c->height) return 0;
    return c->pixels[x + y * c->width];
}

/* Bresenham's line from (x1,y1) to (x2,y2). */
static void draw_line(struct canvas *c, int x1, int y1, int x2, int y2, int color)
{
    int dx = abs(x2 - x1), dy = abs(y2 - y1);
    int sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
    int err = dx - dy;
    for (;;) {
        int e2;
        set_pixel(c, x1, y1, color);
        if (x1 == x2 && y1 == y2) break;
        e2 = err * 2;
        if (e2 > -dy) {
            err -= dy;
            x1 += sx;
        }
        if (e2 < dx) {
            err += dx;
            y1 += sy;
        }
    }
}

/* A square of side `size` centred on (x,y), rotated by angle radians. */
static void draw_square(struct canvas *c, int x, int y, float size, float angle)
{
    int px[4], py[4], j;
    float k = (float)M_PI / 4 + angle;
    size = roundf(size / 1.4142135623f);
    for (j = 0; j < 4; j++) {
        px[j] = (int)roundf(sinf(k) * size + (float)x);
        py[j] = (int)roundf(cosf(k) * size + (float)y);
        k += (float)M_PI / 2;
    }
    for (j = 0; j < 4; j++)
        draw_line(c, px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], 1);
}

static float rnd_unit(void)
{
    return (float)rand() / (float)RAND_MAX;
}

/* Version 5: Schotter. The first two rows are straight, then the disorder
 * grows with the row. */
static struct canvas *draw_schotter(int cols, int per_row, int per_col)
{
    int width = cols * 2, padding = width > 4 ? 2 : 0, x, y;
    float side = (float)(width - padding * 2) / (float)per_row;
    struct canvas *c = canvas_new(width, (int)(side * (float)per_col) + padding * 2, 0);
    for (y = 0; y < per_col; y++) {
        for (x = 0; x < per_row; x++) {
            int sx = (int)((float)x * side + side / 2 + (float)padding);
            int sy = (int)((float)y * side + side / 2 + (float)padding);
            float angle = 0;
            if (y > 1) {
                float r1 = rnd_unit() / (float)per_col * (float)y;
                float r2 = rnd_unit() / (float)per_col * (float)y;
                float r3 = rnd_unit() / (float)per_col * (float)y;
                if (rand() % 2) r1 = -r1;
                if (rand() % 2) r2 = -r2;
                if (rand() % 2) r3 = -r3;
                angle = r1;
                sx += (int)(r2 * side / 3);
                sy += (int)(r3 * side / 3);
            }
            draw_square(c, sx, sy, side, angle);
        }
    }
    return c;
}

struct obuf_text {
    char *p;
    size_t len, cap;
};

static void text_add(struct obuf_text *t, const char *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = xrealloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
}

/* Each 2x4 block of pixels is one Braille character (U+2800 + dot bits),
 * rows of characters separated by newlines. */
static void render_braille(const struct canvas *c, struct obuf_text *out)
{
    static const int dots[8][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}};
    int x, y, b;
    for (y = 0; y < c->height; y += 4) {
        for (x = 0; x < c->width; x += 2) {
            int code = 0x2800;
            char u[3];
            for (b = 0; b < 8; b++)
                if (get_pixel(c, x + dots[b][0], y + dots[b][1])) code += 1 << b;
            u[0] = (char)(0xE0 | (code >> 12));
            u[1] = (char)(0x80 | ((code >> 6) & 0x3F));
            u[2] = (char)(0x80 | (code & 0x3F));
            text_add(out, u, 3);
        }
        if (y != c->height - 1) text_add(out, "\n", 1);
    }
}

struct building {
    int xoff, width, height, color, windows;
};

/* One building standing on the bottom row; its roof is two pixels
 * narrower on each side; windows (two pixels wide, one tall) in a grey
 * other than the wall's. */
static void draw_building(struct canvas *c, const struct building *b)
{
    int starty = c->height - 1, endy = starty - b->height + 1, x, y;
    for (y = starty; y >= endy; y--) {
        for (x = b->xoff; x < b->xoff + b->width; x++) {
            int color = b->color;
            if (y == endy && (x <= b->xoff + 1 || x >= b->xoff + b->width - 2)) continue;
            if (b->windows && x > b->xoff + 1 && x < b->xoff + b->width - 2 && y > endy + 1 &&
                y < starty - 1) {
                int relx = x - (b->xoff + 1), rely = y - (endy + 1);
                if (relx / 2 % 2 && rely % 2) {
                    do {
                        color = 1 + rand() % 2;
                    } while (color == b->color);
                    if (relx % 2) color = get_pixel(c, x - 1, y);
                }
            }
            set_pixel(c, x, y, color);
        }
    }
}

/* Version 6: two rows of grey buildings behind, black ones with lit
 * windows in front, on a white sky. */
static void draw_skyline(struct canvas *c)
{
    struct building b;
    int color, offset;
    for (color = 2; color >= 1; color--) {
        b.color = color;
        b.windows = 0;
        for (offset = -10; offset < c->width;) {
            offset += rand() % 8;
            b.xoff = offset;
            b.width = 10 + rand() % 9;
            b.height = c->height / 2 + (rand() % c->height) / (color == 2 ? 2 : 3);
            draw_building(c, &b);
            offset += color == 2 ? b.width / 2 : b.width + 1;
        }
    }
    b.color = 0;
    b.windows = 1;
    for (offset = -10; offset < c->width;) {
        offset += rand() % 8;
        b.xoff = offset;
        b.width = 5 + rand() % 14;
        if (b.width % 4) b.width += b.width % 3;
        b.height = c->height / 3 + (rand() % c->height) / 2;
        draw_building(c, &b);
        offset += b.width + 5;
    }
}

/* Each pixel a space with foreground and background set to its colour. */
static void render_ansi(const struct canvas *c, struct obuf_text *out)
{
    static const char *const esc[] = {"0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"};
    int x, y;
    for (y = 0; y < c->height; y++) {
        for (x = 0; x < c->width; x++) {
            char cell[32];
            int color = get_pixel(c, x, y);
            int n = snprintf(cell, sizeof(cell), "\033[%s \033[0m",
                             esc[color >= 0 && color <= 3 ? color : 0]);
            text_add(out, cell, (size_t)n);
        }
        if (y != c->height - 1) text_add(out, "\n", 1);
    }
}

/* The integer at argv[i] into *v (kept when absent); false after replying
 * Redis's error. */
static bool opt_long(struct exec *x, int i, long long *v)
{
    if (i >= x->argc) return true;
    if (!util_str2ll(x->argv[i].p, x->argv[i].n, v)) {
        reply_err(x->r, E_NOT_INT);
        return false;
    }
    return true;
}

static long long clamp(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* LOLWUT [VERSION version [arg ...]] */
void cmd_lolwut(struct exec *x)
{
    struct obuf_text out = {NULL, 0, 0};
    long long ver = -1, a = 0, b = 0, d = 0;
    unsigned int v;
    struct canvas *c;

    if (x->argc >= 3 && util_eqci(x->argv[1].p, x->argv[1].n, "version")) {
        if (!opt_long(x, 2, &ver)) return;
        v = (unsigned int)ver; /* as Redis: the version is read as "%u.0.0" */
        if (v == 5) {
            a = 66, b = 8, d = 12;
            if (!opt_long(x, 3, &a) || !opt_long(x, 4, &b) || !opt_long(x, 5, &d)) return;
            a = clamp(a, 1, 1000), b = clamp(b, 1, 200), d = clamp(d, 1, 200);
            /* Redis's clamps still allow a canvas of 800 million pixels (and a
             * 300 MB reply); Keel refuses more than LOLWUT_MAX_PIXELS. */
            if ((double)(a * 2) * ((double)(a * 2) / (double)b * (double)d + 4) >
                LOLWUT_MAX_PIXELS) {
                reply_error(x->r, "ERR LOLWUT canvas too large (Keel draws at most 64 "
                                  "million pixels)");
                return;
            }
            c = draw_schotter((int)a, (int)b, (int)d);
            render_braille(c, &out);
            canvas_free(c);
            text_add(&out, "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ",
                     strlen("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "));
        } else if (v == 6) {
            a = 80, b = 20;
            if (!opt_long(x, 3, &a) || !opt_long(x, 4, &b)) return;
            c = canvas_new((int)clamp(a, 1, 1000), (int)clamp(b, 1, 1000), 3);
            draw_skyline(c);
            render_ansi(c, &out);
            canvas_free(c);
            text_add(&out,
                     "\nDedicated to the 8 bit game developers of past and present.\n"
                     "Original 8 bit image from Plaguemon by hikikomori. Redis ver. ",
                     strlen("\nDedicated to the 8 bit game developers of past and present.\n"
                            "Original 8 bit image from Plaguemon by hikikomori. Redis ver. "));
        }
    }
    if (out.len == 0) text_add(&out, "Redis ver. ", 11);
    text_add(&out, LOLWUT_VERSION "\n", strlen(LOLWUT_VERSION) + 1);
    reply_verbatim(x->r, out.p, out.len);
    free(out.p);
}
