// validate_openapi.mjs -- checks an OpenAPI 3.1 document against the
// official OpenAPI 3.1 JSON Schema, and each of its Schema Objects against
// the JSON Schema 2020-12 meta-schema (the official schema leaves Schema
// Objects open, so `"type": "strng"` would pass it alone).
//
// Usage: node validate_openapi.mjs DOCUMENT.json
// Exit: 0 valid; 1 invalid (the faults on stdout); 77 the validator is not
// installed (tools/check installs it: tools/lib.sh, CD_TEST_NPM).
//
// The validator is the npm package @seriousme/openapi-schema-validator,
// installed globally (npm install -g); Ajv comes with it.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const EXIT_MISSING = 77;
const file = process.argv[2];
if (!file) {
	console.log("usage: node validate_openapi.mjs DOCUMENT.json");
	process.exit(2);
}

let root = "";
try {
	root = execFileSync("npm", ["root", "-g"], { encoding: "utf8" }).trim();
} catch {
	root = "";
}
const entry = path.join(root, "@seriousme", "openapi-schema-validator", "index.js");
if (!root || !existsSync(entry)) {
	console.log("@seriousme/openapi-schema-validator is not installed globally");
	process.exit(EXIT_MISSING);
}
const { Validator } = await import(pathToFileURL(entry).href);
const Ajv2020 = createRequire(entry)("ajv/dist/2020").default;

const doc = JSON.parse(readFileSync(file, "utf8"));
const faults = [];

// 1. the official schema of the document's version
const validator = new Validator();
const result = await validator.validate(doc);
if (validator.version !== "3.1")
	faults.push(`the document is OpenAPI ${validator.version}, not 3.1`);
if (!result.valid) faults.push(...[].concat(result.errors).map((e) => JSON.stringify(e)));

// 2. every Schema Object against the JSON Schema 2020-12 meta-schema
const ajv = new Ajv2020({ strict: false });
function checkSchema(where, schema) {
	if (schema === undefined) return;
	if (!ajv.validateSchema(schema))
		faults.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
}
function checkContent(where, content) {
	for (const [type, media] of Object.entries(content || {}))
		checkSchema(`${where}.content[${type}].schema`, media.schema);
}
function checkResponses(where, responses) {
	for (const [status, r] of Object.entries(responses || {})) {
		checkContent(`${where}.responses.${status}`, r.content);
		for (const [h, header] of Object.entries(r.headers || {}))
			checkSchema(`${where}.responses.${status}.headers.${h}.schema`, header.schema);
	}
}
for (const [p, item] of Object.entries(doc.paths || {})) {
	for (const [method, op] of Object.entries(item)) {
		const where = `paths[${p}].${method}`;
		for (const prm of op.parameters || [])
			checkSchema(`${where}.parameters[${prm.name}].schema`, prm.schema);
		if (op.requestBody) checkContent(`${where}.requestBody`, op.requestBody.content);
		checkResponses(where, op.responses);
	}
}
const comp = doc.components || {};
for (const [name, s] of Object.entries(comp.schemas || {}))
	checkSchema(`components.schemas.${name}`, s);
checkResponses("components", comp.responses);

if (faults.length > 0) {
	console.log(`${file} is not a valid OpenAPI 3.1 document:`);
	for (const f of faults) console.log(`  ${f}`);
	process.exit(1);
}
console.log(`${file}: valid OpenAPI 3.1`);
