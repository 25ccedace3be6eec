import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default tseslint.config(
  { ignores: ["build/**", "public/build/**", "node_modules/**", ".tools/**", "test-results/**", ".cache/**"] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // React's hook rules for the React code; test helpers may be named use* without being hooks.
    files: ["app/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // The classic Remix compiler silently replaces a *.server module imported into
    // browser code with an empty module: domain and components must never import one.
    files: ["app/domain/**", "app/components/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["*.server", "**/*.server", "*.server.*", "**/*.server.*"], message: "server-only module: not allowed in domain/ or components/" }] },
      ],
    },
  },
  {
    // One structured logger in app/ and jobs/.
    files: ["app/**", "jobs/**"],
    rules: { "no-console": "error" },
  },
);
