"""ComfyUI glue: the one pause hub inside the server, HTTP routes, the folder sort, the queue."""
