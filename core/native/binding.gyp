{
  "targets": [
    {
      "target_name": "switchboard_malloc",
      "sources": ["malloc-trim.c"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
