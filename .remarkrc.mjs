// The documentation's link check (`npm run check:links`, run by scripts/test.sh before the tests):
// every link to a file, a folder or a heading of this repository's Markdown must resolve. Offline:
// links to web pages (https://…) are not checked (see docs/contributing.md).
import { existsSync } from "node:fs";
import remarkValidateLinks from "remark-validate-links";

// Pages another branch writes, linked from here before they are merged: skipped only while
// absent, so that once merged their links are checked like any other. Empty after each merge.
const PENDING = [];
const skipPathPatterns = PENDING.filter((page) => !existsSync(page)).map((page) => new RegExp(`/${page.replace(/[.]/g, "\\.")}(#.*)?$`));

export default {
  plugins: [
    // No hosted repository to resolve github.com links against: relative links and anchors only.
    [remarkValidateLinks, { repository: false, skipPathPatterns }],
  ],
};
