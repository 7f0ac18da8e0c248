import type { GuaranteeVersion } from "./guarantee.repository.js";

/** 新規 / 変更-N, the label of a version in the history and under the certificate's title. */
export function versionLabel(version: Pick<GuaranteeVersion, "amendmentNumber">): string {
  return version.amendmentNumber === 0 ? "新規" : `変更-${version.amendmentNumber}`;
}
