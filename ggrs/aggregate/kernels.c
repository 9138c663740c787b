/*
 * Point aggregation in one compiled pass, loaded by ggrs/aggregate/native_backend.py
 * through ctypes (no Python headers, no JIT: the library loads in about a
 * millisecond, so every process, however short, gets the compiled loop).
 *
 * The arithmetic is the one of ggrs/aggregate/binning.py, in double precision,
 * written out per point: a point is kept when lo[p] <= v <= hi[p] on both axes
 * (and its value, if any, is finite); its pixel is min(v * s[p] + t[p], n - 1)
 * truncated, with the same scale and translate tables. Built with
 * -ffp-contract=off so that the multiply and the add are never fused into one
 * FMA (which rounds once instead of twice): every grid then equals the numpy
 * backend's bit for bit.
 */

#include <math.h>
#include <stdint.h>

/* Element types of the columns, as native_backend.py numbers them. */
enum {
    GGRS_F32 = 0,
    GGRS_F64 = 1,
    GGRS_I8 = 2,
    GGRS_I16 = 3,
    GGRS_I32 = 4,
    GGRS_I64 = 5,
    GGRS_U8 = 6,
    GGRS_U16 = 7,
    GGRS_U32 = 8,
};

/* Rows of the per-panel axis tables (each row holds one double per panel). */
enum { X_LO, X_HI, X_SCALE, X_TRANSLATE, Y_LO, Y_HI, Y_SCALE, Y_TRANSLATE, N_TABLES };

static inline double real_at(const void *column, int kind, int64_t i) {
    return kind == GGRS_F32 ? (double)((const float *)column)[i] : ((const double *)column)[i];
}

/* The switch is on a loop-invariant kind: the branch predictor makes it free. */
static inline int64_t code_at(const void *column, int kind, int64_t i) {
    switch (kind) {
        case GGRS_I8: return ((const int8_t *)column)[i];
        case GGRS_I16: return ((const int16_t *)column)[i];
        case GGRS_I32: return ((const int32_t *)column)[i];
        case GGRS_I64: return ((const int64_t *)column)[i];
        case GGRS_U8: return ((const uint8_t *)column)[i];
        case GGRS_U16: return ((const uint16_t *)column)[i];
        case GGRS_U32: return ((const uint32_t *)column)[i];
        default: return 0;
    }
}

static inline double at_most(double u, double last) { return u < last ? u : last; }

/*
 * One layer: one panel, no categories, no values. The axis constants stay in
 * registers and each point is added straight away.
 */
#define COUNT_SINGLE(TYPE)                                                               \
    for (int64_t i = start; i < stop; i++) {                                             \
        double vx = (double)((const TYPE *)x)[i];                                        \
        double vy = (double)((const TYPE *)y)[i];                                        \
        if (x_lo <= vx && vx <= x_hi && y_lo <= vy && vy <= y_hi) {                      \
            int64_t ix = (int64_t)at_most(vx * x_scale + x_translate, last_x);           \
            int64_t iy = (int64_t)at_most(vy * y_scale + y_translate, last_y);           \
            count[(height - 1 - iy) * width + ix + 1] += 1;                              \
        } else {                                                                         \
            count[0] += 1;                                                               \
        }                                                                                \
    }

void ggrs_count_single(const void *x, const void *y, int coord_kind, const double *axes,
                       int64_t width, int64_t height, int64_t start, int64_t stop,
                       uint32_t *count) {
    const double x_lo = axes[X_LO], x_hi = axes[X_HI];
    const double x_scale = axes[X_SCALE], x_translate = axes[X_TRANSLATE];
    const double y_lo = axes[Y_LO], y_hi = axes[Y_HI];
    const double y_scale = axes[Y_SCALE], y_translate = axes[Y_TRANSLATE];
    const double last_x = (double)(width - 1), last_y = (double)(height - 1);
    if (coord_kind == GGRS_F32) {
        COUNT_SINGLE(float)
    } else {
        COUNT_SINGLE(double)
    }
}

/* Points per block of the general kernel: the flat bins of a block are computed
 * first (no stores to the grid in that loop), then added; faster than one fused
 * loop when the tables must be looked up per point. */
#define BLOCK 2048

/*
 * Panels, categories and values. The panel of point i is
 *   rows[i] * n_cols + cols[i]   (facet row and column codes, cols may be NULL),
 * or 0 when rows is NULL. tables holds N_TABLES rows of n_panels doubles.
 * count (and value_sum, when value is not NULL) have 1 + W * H * P * K entries;
 * dropped points go to entry 0 (their values too, whatever they are: the caller
 * discards that entry).
 */
void ggrs_count_layers(const void *x, const void *y, int coord_kind,
                       const void *rows, int rows_kind, const void *cols, int cols_kind,
                       int64_t n_cols, const void *category, int category_kind,
                       int64_t n_categories, const void *value, int value_kind,
                       const double *tables, int64_t n_panels, int64_t width, int64_t height,
                       int64_t start, int64_t stop, uint32_t *count, double *value_sum) {
    const double *x_lo = tables + X_LO * n_panels, *x_hi = tables + X_HI * n_panels;
    const double *x_scale = tables + X_SCALE * n_panels;
    const double *x_translate = tables + X_TRANSLATE * n_panels;
    const double *y_lo = tables + Y_LO * n_panels, *y_hi = tables + Y_HI * n_panels;
    const double *y_scale = tables + Y_SCALE * n_panels;
    const double *y_translate = tables + Y_TRANSLATE * n_panels;
    const double last_x = (double)(width - 1), last_y = (double)(height - 1);
    const int64_t k = n_categories > 0 ? n_categories : 1;
    int64_t flat[BLOCK];
    double weight[BLOCK];
    for (int64_t a = start; a < stop; a += BLOCK) {
        int64_t b = stop - a < BLOCK ? stop : a + BLOCK;
        for (int64_t i = a; i < b; i++) {
            int64_t p = 0;
            if (rows) {
                p = code_at(rows, rows_kind, i);
                if (cols) p = p * n_cols + code_at(cols, cols_kind, i);
            }
            double vx = real_at(x, coord_kind, i);
            double vy = real_at(y, coord_kind, i);
            /* NaN fails every comparison, so it is dropped here too. */
            int ok = x_lo[p] <= vx && vx <= x_hi[p] && y_lo[p] <= vy && vy <= y_hi[p];
            if (value) {
                double w = real_at(value, value_kind, i);
                weight[i - a] = w;
                ok = ok && isfinite(w);
            }
            int64_t bin = 0;
            if (ok) {
                /* u >= 0 for kept points, so truncation is floor. */
                int64_t ix = (int64_t)at_most(vx * x_scale[p] + x_translate[p], last_x);
                int64_t iy = (int64_t)at_most(vy * y_scale[p] + y_translate[p], last_y);
                int64_t layer = p * k;
                if (category) layer += code_at(category, category_kind, i);
                bin = (layer * height + (height - 1 - iy)) * width + ix + 1;
            }
            flat[i - a] = bin;
        }
        for (int64_t j = 0; j < b - a; j++) count[flat[j]] += 1;
        if (value) {
            for (int64_t j = 0; j < b - a; j++) value_sum[flat[j]] += weight[j];
        }
    }
}

/*
 * Per-group minimum and maximum of values[i] over the rows [start, stop) with
 * ok[i] (all of them when ok is NULL), the group of row i being codes[i] (0 when
 * codes is NULL).
 * low and high hold n_groups entries, set by the caller to +inf and -inf; rows
 * to use must have finite values. Returns the number of used rows whose code is
 * outside 0..n_groups-1 (those are skipped).
 */
int64_t ggrs_group_limits(const void *values, int value_kind, const void *codes, int codes_kind,
                          const uint8_t *ok, int64_t start, int64_t stop, int64_t n_groups,
                          double *low, double *high) {
    int64_t bad = 0;
    for (int64_t i = start; i < stop; i++) {
        if (ok && !ok[i]) continue;
        int64_t g = codes ? code_at(codes, codes_kind, i) : 0;
        if (g < 0 || g >= n_groups) {
            bad++;
            continue;
        }
        double v = real_at(values, value_kind, i);
        if (v < low[g]) low[g] = v;
        if (v > high[g]) high[g] = v;
    }
    return bad;
}
