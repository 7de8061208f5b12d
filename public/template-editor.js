// "Подставить поле" buttons insert {{Column}} at the cursor of the template box.
const box = document.getElementById('template');
const chips = document.getElementById('field-chips');
chips?.addEventListener('click', (event) => {
  const chip = event.target.closest('button[data-field]');
  if (!chip || !box) return;
  const field = `{{${chip.dataset.field}}}`;
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  box.value = box.value.slice(0, start) + field + box.value.slice(end);
  box.focus();
  box.selectionStart = box.selectionEnd = start + field.length;
});

// Ticking lists or tags changes the fields on offer: every column of the chosen lists, each once
// (compared as the server compares them: case, ё and spaces do not matter).
const fold = (s) => s.replace(/[\s\u00a0]+/g, ' ').trim().toLocaleLowerCase('ru-RU').replaceAll('ё', 'е');
function refreshFields() {
  if (!chips) return;
  const tags = new Set([...document.querySelectorAll('input[name=tags]:checked')].map((t) => t.dataset.tag));
  const seen = new Set();
  const columns = [];
  // As the server orders them: ticked lists top to bottom, then the tagged ones, oldest first.
  const all = [...document.querySelectorAll('input[name=listIds]')];
  const tagged = all.filter((l) => !l.checked && JSON.parse(l.dataset.tags || '[]').some((t) => tags.has(t))).sort((a, b) => Number(a.value) - Number(b.value));
  for (const list of [...all.filter((l) => l.checked), ...tagged]) {
    for (const column of JSON.parse(list.dataset.columns || '[]')) {
      if (seen.has(fold(column))) continue;
      seen.add(fold(column));
      columns.push(column);
    }
  }
  for (const old of chips.querySelectorAll('button[data-field]')) old.remove();
  for (const column of columns) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    button.dataset.field = column;
    button.textContent = column;
    chips.append(button);
  }
  chips.hidden = columns.length === 0;
}
for (const input of document.querySelectorAll('input[name=listIds], input[name=tags]')) input.addEventListener('change', refreshFields);
