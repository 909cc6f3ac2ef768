/* geohash.c — the geohash arithmetic behind the geo commands (see
 * geohash.h): interleaving, encode/decode, neighbours, the covering cells
 * of a search shape and distances. The steps and constants are Redis 7.0's
 * so scores, distances and decoded coordinates match it exactly. */
#include <math.h>
#include <string.h>

#include "geohash.h"

static const double D_R = M_PI / 180.0;

static inline double deg_rad(double a)
{
    return a * D_R;
}

static inline double rad_deg(double a)
{
    return a / D_R;
}

/* Spread the 32 bits of v over the even bits of a 64-bit word. */
static uint64_t spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of x, packed into 32 bits. */
static uint32_t squash(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

static const struct geo_range wgs_lon = {GEO_LONG_MIN, GEO_LONG_MAX};
static const struct geo_range wgs_lat = {GEO_LAT_MIN, GEO_LAT_MAX};

bool geohash_encode(const struct geo_range *lon_r, const struct geo_range *lat_r, double lon,
                    double lat, int step, struct geo_bits *out)
{
    double lat_off, lon_off;
    out->bits = 0;
    out->step = 0;
    if (step > 32 || step == 0) return false;
    if (lon_r->max - lon_r->min == 0 || lat_r->max - lat_r->min == 0) return false;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN)
        return false;
    if (lat < lat_r->min || lat > lat_r->max || lon < lon_r->min || lon > lon_r->max) return false;
    lat_off = (lat - lat_r->min) / (lat_r->max - lat_r->min);
    lon_off = (lon - lon_r->min) / (lon_r->max - lon_r->min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    out->bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    out->step = (uint8_t)step;
    return true;
}

bool geohash_encode_wgs84(double lon, double lat, int step, struct geo_bits *out)
{
    return geohash_encode(&wgs_lon, &wgs_lat, lon, lat, step, out);
}

bool geohash_decode(struct geo_range lon_r, struct geo_range lat_r, struct geo_bits h,
                    struct geo_area *area)
{
    uint32_t ilat, ilon;
    double lat_scale, lon_scale, cells;
    if ((h.bits == 0 && h.step == 0) || lat_r.max - lat_r.min == 0 || lon_r.max - lon_r.min == 0)
        return false;
    area->hash = h;
    ilat = squash(h.bits);
    ilon = squash(h.bits >> 1);
    lat_scale = lat_r.max - lat_r.min;
    lon_scale = lon_r.max - lon_r.min;
    cells = (double)(1ULL << h.step);
    area->lat.min = lat_r.min + (ilat * 1.0 / cells) * lat_scale;
    area->lat.max = lat_r.min + ((ilat + 1) * 1.0 / cells) * lat_scale;
    area->lon.min = lon_r.min + (ilon * 1.0 / cells) * lon_scale;
    area->lon.max = lon_r.min + ((ilon + 1) * 1.0 / cells) * lon_scale;
    return true;
}

static bool area_centre(const struct geo_area *a, double xy[2])
{
    xy[0] = (a->lon.min + a->lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a->lat.min + a->lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
    return true;
}

/* A score as Redis turns it into bits ((uint64_t) of the double; scores
 * a geo command writes are integers in [0, 2^52)). */
static uint64_t score_bits(double score)
{
    if (!(score >= 0)) return score > -9.2e18 ? (uint64_t)(int64_t)score : 0;
    if (score >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)score;
}

bool geohash_decode_score(double score, double xy[2])
{
    struct geo_bits h = {score_bits(score), GEO_STEP_MAX};
    struct geo_area a;
    if (!geohash_decode(wgs_lon, wgs_lat, h, &a)) return false;
    return area_centre(&a, xy);
}

uint64_t geohash_align52(struct geo_bits h)
{
    return h.bits << (52 - h.step * 2);
}

uint64_t geohash_score(double lon, double lat)
{
    struct geo_bits h;
    geohash_encode_wgs84(lon, lat, GEO_STEP_MAX, &h);
    return geohash_align52(h);
}

bool geohash_text(double score, char buf[12])
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    const struct geo_range lon_r = {-180, 180}, lat_r = {-90, 90};
    struct geo_bits h;
    double xy[2];
    int i;
    if (!geohash_decode_score(score, xy)) return false;
    geohash_encode(&lon_r, &lat_r, xy[0], xy[1], GEO_STEP_MAX, &h);
    /* 52 bits make 10 characters and 2 bits; the 11th is always '0'. */
    for (i = 0; i < 11; i++) {
        unsigned idx = i == 10 ? 0 : (unsigned)((h.bits >> (52 - (i + 1) * 5)) & 0x1f);
        buf[i] = alphabet[idx];
    }
    buf[11] = '\0';
    return true;
}

/* ---- neighbours ---- */

/* Move the longitude (odd bits, dx) or latitude (even bits, dy) by one cell. */
static void move_axis(struct geo_bits *h, int d, bool lon)
{
    uint64_t mine_mask = lon ? 0xaaaaaaaaaaaaaaaaULL : 0x5555555555555555ULL;
    uint64_t other_mask = lon ? 0x5555555555555555ULL : 0xaaaaaaaaaaaaaaaaULL;
    uint64_t mine = h->bits & mine_mask, other = h->bits & other_mask;
    uint64_t fill = other_mask >> (64 - h->step * 2); /* ones in the other axis' bits */
    if (d == 0) return;
    if (d > 0) {
        mine = mine + (fill + 1);
    } else {
        mine = mine | fill;
        mine = mine - (fill + 1);
    }
    mine &= mine_mask >> (64 - h->step * 2);
    h->bits = mine | other;
}

static struct geo_bits moved(struct geo_bits h, int dx, int dy)
{
    move_axis(&h, dx, true);
    move_axis(&h, dy, false);
    return h;
}

/* ---- the covering cells ---- */

static int estimate_steps(double range_m, double lat)
{
    const double mercator_max = 20037726.37;
    int step = 1;
    if (range_m == 0) return 26;
    while (range_m < mercator_max) {
        range_m *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return step;
}

/* bounds: min lon, min lat, max lon, max lat. */
static void bounding_box(const struct geo_shape *s, double *b)
{
    double lon = s->xy[0], lat = s->xy[1];
    double h = s->conversion * (s->type == GEO_CIRCLE ? s->radius : s->height / 2);
    double w = s->conversion * (s->type == GEO_CIRCLE ? s->radius : s->width / 2);
    const double lat_delta = rad_deg(h / GEO_EARTH_RADIUS_M);
    const double lon_top = rad_deg(w / GEO_EARTH_RADIUS_M / cos(deg_rad(lat + lat_delta)));
    const double lon_bottom = rad_deg(w / GEO_EARTH_RADIUS_M / cos(deg_rad(lat - lat_delta)));
    bool south = lat < 0;
    b[0] = south ? lon - lon_bottom : lon - lon_top;
    b[2] = south ? lon + lon_bottom : lon + lon_top;
    b[1] = lat - lat_delta;
    b[3] = lat + lat_delta;
}

static void fill_cells(struct geo_cover *c, struct geo_bits h)
{
    c->cells[0] = h;
    c->cells[1] = moved(h, 0, 1);   /* north */
    c->cells[2] = moved(h, 0, -1);  /* south */
    c->cells[3] = moved(h, 1, 0);   /* east */
    c->cells[4] = moved(h, -1, 0);  /* west */
    c->cells[5] = moved(h, 1, 1);   /* north east */
    c->cells[6] = moved(h, -1, 1);  /* north west */
    c->cells[7] = moved(h, 1, -1);  /* south east */
    c->cells[8] = moved(h, -1, -1); /* south west */
}

static void zero_cells(struct geo_cover *c, int a, int b, int d)
{
    memset(&c->cells[a], 0, sizeof(c->cells[a]));
    memset(&c->cells[b], 0, sizeof(c->cells[b]));
    memset(&c->cells[d], 0, sizeof(c->cells[d]));
}

void geohash_cover(const struct geo_shape *s, struct geo_cover *out)
{
    double b[4], radius_m;
    double lon = s->xy[0], lat = s->xy[1];
    struct geo_bits h;
    struct geo_area n, so, e, w;
    int steps;
    bool decrease = false;

    bounding_box(s, b);
    radius_m = s->type == GEO_CIRCLE
                   ? s->radius
                   : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    radius_m *= s->conversion;
    steps = estimate_steps(radius_m, lat);

    geohash_encode(&wgs_lon, &wgs_lat, lon, lat, steps, &h);
    fill_cells(out, h);
    geohash_decode(wgs_lon, wgs_lat, h, &out->area);

    /* Near a cell's edge the estimate may be one step too fine. */
    geohash_decode(wgs_lon, wgs_lat, out->cells[1], &n);
    geohash_decode(wgs_lon, wgs_lat, out->cells[2], &so);
    geohash_decode(wgs_lon, wgs_lat, out->cells[3], &e);
    geohash_decode(wgs_lon, wgs_lat, out->cells[4], &w);
    if (n.lat.max < b[3]) decrease = true;
    if (so.lat.min > b[1]) decrease = true;
    if (e.lon.max < b[2]) decrease = true;
    if (w.lon.min > b[0]) decrease = true;
    if (steps > 1 && decrease) {
        steps--;
        geohash_encode(&wgs_lon, &wgs_lat, lon, lat, steps, &h);
        fill_cells(out, h);
        geohash_decode(wgs_lon, wgs_lat, h, &out->area);
    }

    /* Drop the neighbours the search area cannot reach. */
    if (steps >= 2) {
        if (out->area.lat.min < b[1]) zero_cells(out, 2, 8, 7);
        if (out->area.lat.max > b[3]) zero_cells(out, 1, 5, 6);
        if (out->area.lon.min < b[0]) zero_cells(out, 4, 8, 6);
        if (out->area.lon.max > b[2]) zero_cells(out, 3, 7, 5);
    }
}

/* ---- distances ---- */

static double lat_distance(double lat1, double lat2)
{
    return GEO_EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geohash_distance(double lon1, double lat1, double lon2, double lat2)
{
    double lat1r, lon1r, lat2r, lon2r, u, v, a;
    lon1r = deg_rad(lon1);
    lon2r = deg_rad(lon2);
    v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) return lat_distance(lat1, lat2);
    lat1r = deg_rad(lat1);
    lat2r = deg_rad(lat2);
    u = sin((lat2r - lat1r) / 2);
    a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

/* geohash_distance from the shape's centre, with the centre's radians and
 * cosine computed once per search (the same operations on the same values:
 * the same bits). */
static double centre_distance(const struct geo_shape *s, double lon2, double lat2)
{
    double lat2r, lon2r, u, v, a;
    if (!s->prepared) return geohash_distance(s->xy[0], s->xy[1], lon2, lat2);
    lon2r = deg_rad(lon2);
    v = sin((lon2r - s->lon1r) / 2);
    if (v == 0.0) return lat_distance(s->xy[1], lat2);
    lat2r = deg_rad(lat2);
    u = sin((lat2r - s->lat1r) / 2);
    a = u * u + s->coslat1 * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

void geohash_prepare(struct geo_shape *s)
{
    s->lon1r = deg_rad(s->xy[0]);
    s->lat1r = deg_rad(s->xy[1]);
    s->coslat1 = cos(s->lat1r);
    s->prepared = true;
}

bool geohash_in_shape(const struct geo_shape *s, const double xy[2], double *dist)
{
    if (s->type == GEO_CIRCLE) {
        double r = s->radius * s->conversion;
        /* The great circle distance is never shorter than the latitude
         * distance: a point clearly outside the latitude band (by far more
         * than rounding) is outside the circle, no trigonometry needed. */
        if (s->prepared && lat_distance(s->xy[1], xy[1]) > r * (1 + 1e-9) + 1e-6) return false;
        *dist = centre_distance(s, xy[0], xy[1]);
        return *dist <= r;
    }
    {
        double wm = s->width * s->conversion, hm = s->height * s->conversion;
        if (lat_distance(xy[1], s->xy[1]) > hm / 2) return false;
        if (geohash_distance(xy[0], xy[1], s->xy[0], xy[1]) > wm / 2) return false;
        *dist = centre_distance(s, xy[0], xy[1]);
        return true;
    }
}
