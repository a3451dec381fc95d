// Decision-tree evaluator: exports only. The tree walk lands with the policy engine (issue 4);
// until then the module exports its ABI version so the host can check that the build it loads
// matches the layout it writes (see assembly/README.md).

/** Version of the memory layout shared with src/authz/. Bumped on any incompatible change. */
export const ABI_VERSION: u32 = 1;

/** The ABI version, as a function so hosts without global exports can read it. */
export function abiVersion(): u32 {
  return ABI_VERSION;
}
