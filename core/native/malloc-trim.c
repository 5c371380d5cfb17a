/*
 * switchboard_malloc: hands the C library's free memory back to the system.
 *
 * glibc keeps what a process freed in its malloc arenas: only the top of an
 * arena is given back, and only past a threshold that grows (to tens of MiB)
 * every time a large block is freed. A Node host frees such blocks all the
 * time (a file read at start-up, a code cache, the compiler's scratch zones
 * of every worker thread), so megabytes of freed memory stay resident for
 * good. malloc_trim(0) walks every arena and releases the whole free pages
 * in it; Node has no call for it, hence this module. Called by the host after
 * it compacts its V8 heap while idle (core/src/threads/idle-compaction.ts).
 *
 * malloc_trim leaves one thing alone: the top of an arena that belongs to
 * another thread than the main one (V8's compiler and GC helpers, libuv's
 * pool, the SIP engine thread). glibc gives such a top back only when a free
 * leaves it larger than the trim threshold, and that threshold follows the
 * largest block freed so far (twice the mmap threshold, which itself rises
 * to every large block freed). fixThresholds(bytes) sets both to one fixed
 * value, as MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ would at
 * start-up: blocks that large are mapped and unmapped on their own, and a
 * thread's arena gives back its top as soon as it exceeds that much.
 *
 * Where the C library is not glibc there is nothing to call: trim() and
 * fixThresholds() answer false and available() says so.
 */
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value boolean_value(napi_env env, int value) {
  napi_value out;
  if (napi_get_boolean(env, value != 0, &out) != napi_ok) return NULL;
  return out;
}

/* trim(): true when memory was given back to the system. */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
#if defined(__GLIBC__)
  return boolean_value(env, malloc_trim(0));
#else
  return boolean_value(env, 0);
#endif
}

/* fixThresholds(bytes): true when glibc took both thresholds. */
static napi_value fix_thresholds(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t bytes = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes < 4096 || bytes > (int64_t)32 << 20) {
    napi_throw_range_error(env, NULL, "fixThresholds(bytes): bytes is an integer from 4096 to 33554432 (32 MiB, glibc's largest mmap threshold)");
    return NULL;
  }
#if defined(__GLIBC__)
  int trim_ok = mallopt(M_TRIM_THRESHOLD, (int)bytes);
  int mmap_ok = mallopt(M_MMAP_THRESHOLD, (int)bytes);
  return boolean_value(env, trim_ok == 1 && mmap_ok == 1);
#else
  return boolean_value(env, 0);
#endif
}

/* available(): whether trim() can do anything on this C library. */
static napi_value available(napi_env env, napi_callback_info info) {
  (void)info;
#if defined(__GLIBC__)
  return boolean_value(env, 1);
#else
  return boolean_value(env, 0);
#endif
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "trim", NULL, trim, NULL, NULL, NULL, napi_enumerable, NULL },
    { "fixThresholds", NULL, fix_thresholds, NULL, NULL, NULL, napi_enumerable, NULL },
    { "available", NULL, available, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
