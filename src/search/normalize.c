/* normalize: being written. */
typedef int focal_placeholder_normalize;
