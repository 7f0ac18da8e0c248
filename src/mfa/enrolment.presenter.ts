import QRCode from "qrcode";
import type { Enrolment } from "./second-factor.service.js";

export type EnrolmentView = { qr: { viewBox: string; path: string }; secret: string; secretGroups: string };

/** Light modules around the code, as the QR specification asks, so that a camera finds its edges. */
const QUIET_ZONE = 4;

/**
 * The enrolment page: the otpauth URI as a QR code drawn on the server (the qrcode library's
 * module matrix, one SVG path of the dark modules, written into the page with ordinary escaping:
 * the CSP allows images from this site only, so neither a data: URL nor a generated file), and
 * the secret for typing by hand in groups of four.
 */
export function toEnrolmentView(enrolment: Enrolment): EnrolmentView {
  const { modules } = QRCode.create(enrolment.uri, { errorCorrectionLevel: "M" });
  const runs: string[] = [];
  for (let row = 0; row < modules.size; row++) {
    let col = 0;
    while (col < modules.size) {
      if (!modules.get(row, col)) { col++; continue; }
      const start = col;
      while (col < modules.size && modules.get(row, col)) col++;
      runs.push(`M${start + QUIET_ZONE} ${row + QUIET_ZONE}h${col - start}v1h-${col - start}z`);
    }
  }
  const side = modules.size + 2 * QUIET_ZONE;
  return { qr: { viewBox: `0 0 ${side} ${side}`, path: runs.join("") }, secret: enrolment.secret, secretGroups: enrolment.secret.replace(/(.{4})(?=.)/g, "$1 ") };
}
