/** Stylesheets imported by the static viewer are inlined as text by its bundler. */
declare module '*.css' {
  const text: string;
  export default text;
}
