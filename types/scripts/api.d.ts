// What `../../scripts/api.js` gives an extension, typed by the frontend's own package.
import type { ComfyApi } from "@comfyorg/comfyui-frontend-types";
export declare const api: ComfyApi;
