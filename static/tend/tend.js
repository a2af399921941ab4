// Tend's own script. No inline script anywhere, so the Content-Security-Policy can forbid it.
// (The "js" class on <html> is set by theme.js, in <head>, before the first paint.)

// The menu button on narrow screens: Bootstrap's CSS shows the menu when it has "show"; this replaces
// Bootstrap's JavaScript, whose 80 KB Tend loaded for this alone. Escape closes the open menu.
document.querySelectorAll("[data-menu-toggle]").forEach((button) => {
  const menu = document.getElementById(button.dataset.menuToggle);
  if (!menu) return;
  const setOpen = (open) => {
    menu.classList.toggle("show", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => setOpen(!menu.classList.contains("show")));
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.classList.contains("show")) return;
    setOpen(false);
    button.focus();
  });
});

// Show only the questions for the role the partner picked ("I gave" / "I received").
function syncRoleSections(form) {
  const picked = form.querySelector('input[name="role"]:checked');
  form.querySelectorAll("[data-role-section]").forEach((section) => {
    section.hidden = picked ? section.dataset.roleSection !== picked.value : true;
  });
}

document.querySelectorAll("form[data-role-form]").forEach((form) => {
  syncRoleSections(form);
  form.addEventListener("change", (event) => {
    if (event.target.name === "role") syncRoleSections(form);
  });
});

// A second tap on a submit button while the first request is on its way does nothing.
document.querySelectorAll("form[data-once]").forEach((form) => {
  form.addEventListener("submit", () => {
    // Disable only after the browser has read the form, so the pressed button still sends its value.
    setTimeout(() => {
      form.querySelectorAll('button[type="submit"]').forEach((b) => { b.disabled = true; });
    }, 0);
  });
});

// Ask before a destructive action; the server still requires the POST.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

// "Print" buttons appear only where a script can press them.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});

// Caseload: filter rows by label as you type, in the page (labels stay out of URLs and logs).
document.querySelectorAll("[data-filter-for]").forEach((box) => {
  const table = document.getElementById(box.dataset.filterFor);
  if (!table) return;
  box.hidden = false;
  const input = box.querySelector("input");
  const empty = document.querySelector("[data-filter-empty]");
  input.addEventListener("input", () => {
    const needle = input.value.trim().toLowerCase();
    let shown = 0;
    table.querySelectorAll("tbody tr").forEach((row) => {
      row.hidden = needle !== "" && !row.dataset.label.includes(needle);
      if (!row.hidden) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  });
});

// Assigning an exercise: the plan for its first role in the words of its shape (who gives, who speaks
// first), and no plan at all for a together exercise. The server words the page for the exercise it was
// sent with; this follows a new choice. The words come from the page (data-plan-words), never from here.
document.querySelectorAll("[data-plan-box]").forEach((box) => {
  const select = document.getElementById(box.dataset.planFor);
  if (!select) return;
  const words = JSON.parse(box.dataset.planWords);
  const sync = () => {
    const option = select.options[select.selectedIndex];
    const plan = words[(option && option.dataset.shape) || "touch"];
    box.hidden = !plan;
    if (!plan) return;
    const legend = box.querySelector("legend");
    if (legend) legend.textContent = plan.legend;
    box.querySelectorAll('input[name$="giver_plan"]').forEach((input) => {
      const label = box.querySelector('label[for="' + input.id + '"]');
      if (label && plan.choices[input.value]) label.textContent = plan.choices[input.value];
    });
    const named = box.querySelector('select[name$="planned_giver"]');
    if (named) {
      const label = box.querySelector('label[for="' + named.id + '"]');
      if (label) label.textContent = plan.planned;
      const help = document.getElementById(named.id + "_helptext");
      if (help) help.textContent = plan.help;
    }
  };
  select.addEventListener("change", sync);
  sync();
});
