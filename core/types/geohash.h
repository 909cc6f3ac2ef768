/* geohash.h — the 52-bit interleaved geohash Redis 7.0 stores as a sorted
 * set score, and the geometry its geo commands need: encoding and decoding
 * (WGS84 longitude -180..180, latitude -85.05112878..85.05112878, 26 steps
 * per axis), neighbouring cells, the cells (centre + 8) that cover a search
 * circle or box, the standard base32 geohash text (re-encoded over the
 * -90..90 latitude range) and haversine distances on Redis's earth radius.
 * Pure numbers: no keys, no replies. The floating point steps follow Redis's
 * order of operations so the same scores, distances and coordinates come
 * out bit for bit. */
#ifndef KEEL_GEOHASH_H
#define KEEL_GEOHASH_H

#include <stdbool.h>
#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0
#define GEO_EARTH_RADIUS_M 6372797.560856

struct geo_range {
    double min, max;
};

/* A cell: `step` bits per axis, interleaved (latitude in the even bits,
 * longitude in the odd ones). bits == 0 && step == 0 is "no cell". */
struct geo_bits {
    uint64_t bits;
    uint8_t step;
};

struct geo_area {
    struct geo_bits hash;
    struct geo_range lon, lat;
};

/* The centre cell and its eight neighbours (some zeroed when useless). */
struct geo_cover {
    struct geo_bits cells[9]; /* centre, N, S, E, W, NE, NW, SE, SW */
    struct geo_area area;     /* the centre cell's area */
};

enum geo_shape_type { GEO_CIRCLE, GEO_BOX };

/* A search: centre (lon, lat), a radius or a width/height in `unit`s,
 * conversion = metres per unit. */
struct geo_shape {
    enum geo_shape_type type;
    double xy[2];
    double conversion;
    double radius;
    double width, height;
    /* geohash_prepare: the centre in radians and its latitude's cosine */
    bool prepared;
    double lon1r, lat1r, coslat1;
};

/* Encode into a cell of `step` bits per axis over the given ranges; false
 * when the point is outside them (or outside WGS84's limits). */
bool geohash_encode(const struct geo_range *lon_r, const struct geo_range *lat_r, double lon,
                    double lat, int step, struct geo_bits *out);
bool geohash_encode_wgs84(double lon, double lat, int step, struct geo_bits *out);
/* The cell's area over the given ranges. */
bool geohash_decode(struct geo_range lon_r, struct geo_range lat_r, struct geo_bits h,
                    struct geo_area *area);
/* The centre of the cell a 52-bit score names (clamped to WGS84's limits). */
bool geohash_decode_score(double score, double xy[2]);
/* A cell as the 52-bit score (bits shifted to 26 steps). */
uint64_t geohash_align52(struct geo_bits h);
/* The score of a point (GEOADD). */
uint64_t geohash_score(double lon, double lat);
/* The 11-character standard geohash (GEOHASH) of a score into buf[12]. */
bool geohash_text(double score, char buf[12]);
/* The cells to scan for a search (Redis's geohashCalculateAreasByShapeWGS84). */
void geohash_cover(const struct geo_shape *s, struct geo_cover *out);
/* Haversine distance in metres between two points in degrees. */
double geohash_distance(double lon1, double lat1, double lon2, double lat2);
/* Precompute what every distance from the shape's centre shares (call
 * once the centre is set; optional). */
void geohash_prepare(struct geo_shape *s);
/* Whether the point at xy lies in the shape; *dist gets its distance (in
 * metres) from the centre. */
bool geohash_in_shape(const struct geo_shape *s, const double xy[2], double *dist);

#endif
