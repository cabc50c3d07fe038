// @ts-check
// Every name this pack publishes to the page, defined once (gates/core/names.py holds
// the same values for the server; tests/unit/test_names.py keeps them in step).
// Routes, event names and command ids are public contracts: they never change.

export const PACK = "Dataset Gates";
export const ROUTE_PREFIX = "/datasete_gate";
export const ROUTES = {
  choice: `${ROUTE_PREFIX}/choice`,
  mask: `${ROUTE_PREFIX}/mask`,
  pending: `${ROUTE_PREFIX}/pending`,
  full: `${ROUTE_PREFIX}/full`,
  progress: `${ROUTE_PREFIX}/progress`,
  sortDecide: `${ROUTE_PREFIX}/sort/decide`,
  sortUndo: `${ROUTE_PREFIX}/sort/undo`,
  sortStop: `${ROUTE_PREFIX}/sort/stop`,
  sortReroute: `${ROUTE_PREFIX}/sort/reroute`,
  sortLog: `${ROUTE_PREFIX}/sort/log`,
  sortThumb: `${ROUTE_PREFIX}/sort/thumb`,
  sortFull: `${ROUTE_PREFIX}/sort/full`,
  poolList: `${ROUTE_PREFIX}/pool/list`,
  poolAdd: `${ROUTE_PREFIX}/pool/add`,
  poolActive: `${ROUTE_PREFIX}/pool/active`,
  poolLabel: `${ROUTE_PREFIX}/pool/label`,
  poolSetMask: `${ROUTE_PREFIX}/pool/set_mask`,
  poolRemove: `${ROUTE_PREFIX}/pool/remove`,
  profilesList: `${ROUTE_PREFIX}/pool/profiles/list`,
  profilesCreate: `${ROUTE_PREFIX}/pool/profiles/create`,
  profilesRename: `${ROUTE_PREFIX}/pool/profiles/rename`,
  profilesDelete: `${ROUTE_PREFIX}/pool/profiles/delete`,
  profilesDuplicate: `${ROUTE_PREFIX}/pool/profiles/duplicate`,
  profilesExport: `${ROUTE_PREFIX}/pool/profiles/export`,
  profilesImport: `${ROUTE_PREFIX}/pool/profiles/import`,
  tags: `${ROUTE_PREFIX}/tags`,
  tokens: `${ROUTE_PREFIX}/tokens`,
};
export const EVENTS = {
  show: "datasete-gate-show",
  ready: "datasete-gate-ready",
  done: "datasete-gate-done",
  sort: "datasete-gate-sort",
};
export const EXTENSION = "datasete.ImageGate";
export const COMMAND_PREFIX = "Datasete.Gate.";
export const CSS_PREFIX = "dsg-";
export const CANCEL = "__cancel__";
export const MAX_ROUTES = 10;
