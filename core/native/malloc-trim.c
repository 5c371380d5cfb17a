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
 * Where the C library is not glibc there is nothing to call: trim() answers
 * false and available() says so.
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
    { "available", NULL, available, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
