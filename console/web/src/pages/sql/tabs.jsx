// SqlTabs links the SQL area's two pages.
export function SqlTabs({ current }) {
  return (
    <nav class="sql-tabs" aria-label="SQL">
      <a href="#/sql" aria-current={current === 'editor' ? 'page' : undefined}>
        Editor
      </a>
      <a href="#/sql/applications" aria-current={current === 'applications' ? 'page' : undefined}>
        Applications
      </a>
    </nav>
  );
}
